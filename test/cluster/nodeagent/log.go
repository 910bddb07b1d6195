package main

import (
	"fmt"
	"os"
	"time"
)

var logPrefix = "nodeagent"

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", time.Now().UTC().Format("15:04:05.000"), logPrefix, fmt.Sprintf(format, args...))
}
