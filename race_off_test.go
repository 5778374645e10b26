//go:build !race

package emporix

const raceEnabled = false
