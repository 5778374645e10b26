//go:build race

package emporix

// raceEnabled: the race detector slows the heap measurements, which then
// use fewer sessions.
const raceEnabled = true
