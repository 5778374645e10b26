module github.com/emporix-go/emporix/examples/storefront

go 1.26.0

require (
	github.com/alicebob/miniredis/v2 v2.40.0
	github.com/emporix-go/emporix v0.0.0-00010101000000-000000000000
	github.com/emporix-go/emporix/redisstore v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
	golang.org/x/oauth2 v0.38.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/yuin/gopher-lua v1.1.1 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
)

// The example is built against the SDK and redisstore in this repository.
// A copy outside it requires tagged versions instead.
replace (
	github.com/emporix-go/emporix => ../..
	github.com/emporix-go/emporix/redisstore => ../../redisstore
)
