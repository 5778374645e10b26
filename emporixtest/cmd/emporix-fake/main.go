// Command emporix-fake runs emporixtest, the SDK's fake of the Emporix
// Customer Service (customer managed), as an HTTP server, for teams and
// tools that are not Go: a Next.js or mobile frontend, Postman, another
// language's tests.
//
//	go run github.com/emporix-go/emporix/emporixtest/cmd/emporix-fake@latest -addr 127.0.0.1:8787 -cors-origin http://localhost:3000
//
// It prints the base URL, tenant, storefront client ID and service
// credentials (as text, or with -json as one JSON object on stdout), serves
// until SIGINT or SIGTERM, then finishes the requests in flight and exits
// with status 0. Its test controls (e-mailed codes, the clock, faults,
// customers) are HTTP endpoints under /_fake/. Run with -h for the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it serves until ctx ends and returns the exit
// status (0 after a clean shutdown, 2 for bad flags, 1 otherwise).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintf(stderr, "emporix-fake: %v\n", err)
		return 2
	}
	f, err := start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "emporix-fake: %v\n", err)
		return 1
	}
	if err := f.announce(stdout); err != nil {
		fmt.Fprintf(stderr, "emporix-fake: %v\n", err)
		f.shutdown()
		return 1
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr, "emporix-fake: stopping")
	case err := <-f.serveErr:
		fmt.Fprintf(stderr, "emporix-fake: serving: %v\n", err)
		f.shutdown()
		return 1
	}
	if err := f.shutdown(); err != nil {
		fmt.Fprintf(stderr, "emporix-fake: shutdown: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "emporix-fake: stopped")
	return 0
}
