package main

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSupervisorLogsTheChildsLinesAndRestartsIt(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	starts := make(chan string, 8)
	s := &supervisor{
		command: `printf 'ready on %s\n' "$WHOKNOWS_HTTP_PORT"; printf 'ERROR it broke\n' >&2; exit 3`,
		env:     func(port int) []string { return []string{"WHOKNOWS_HTTP_PORT=" + strconv.Itoa(port)} },
		started: func(base string) { starts <- base },
		log: func(level, line string) {
			mu.Lock()
			logged = append(logged, level+" "+line)
			mu.Unlock()
		},
	}
	s.Start()
	first := <-starts
	select {
	case <-starts:
	case <-time.After(5 * time.Second):
		t.Fatal("the child was not restarted after it exited")
	}
	s.Stop()
	mu.Lock()
	defer mu.Unlock()
	text := strings.Join(logged, "\n")
	port := first[strings.LastIndex(first, ":")+1:]
	for _, want := range []string{"info ready on " + port, "error ERROR it broke", "error the service exited (exit status 3); restarting in 1s"} {
		if !strings.Contains(text, want) {
			t.Errorf("the log has no %q:\n%s", want, text)
		}
	}
}

func TestStopEndsALongRunningChild(t *testing.T) {
	started := make(chan string, 1)
	s := &supervisor{
		command: "sleep 60",
		env:     func(int) []string { return nil },
		started: func(base string) { started <- base },
		log:     func(string, string) {},
	}
	s.Start()
	<-started
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the child")
	}
}

func TestStderrLevels(t *testing.T) {
	for line, want := range map[string]string{
		"2026-01-01 ERROR whoknows: boom": "error", "Traceback (most recent call last):": "error",
		"WARNING: slow": "warn", "INFO ready": "info",
	} {
		if got := lineLevel(line); got != want {
			t.Errorf("%q: %s, want %s", line, got, want)
		}
	}
}
