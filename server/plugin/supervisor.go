package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// supervisor runs the ServiceCommand as a child process: restarted with exponential backoff when it
// dies, its output lines in the server log, stopped (SIGTERM, then SIGKILL) on deactivation.
type supervisor struct {
	command string
	env     func(port int) []string
	started func(base string) // told the service's address each time the child starts
	log     func(level, line string)

	mu      sync.Mutex
	cmd     *exec.Cmd
	stopped chan struct{}
	done    chan struct{}
}

const (
	backoffFirst = time.Second
	backoffMax   = time.Minute
	healthyAfter = time.Minute // a child that ran this long starts over at backoffFirst
	stopGrace    = 10 * time.Second
)

func (s *supervisor) Start() {
	s.stopped, s.done = make(chan struct{}), make(chan struct{})
	go s.loop()
}

func (s *supervisor) loop() {
	defer close(s.done)
	delay := backoffFirst
	for {
		began := time.Now()
		err := s.runOnce()
		select {
		case <-s.stopped:
			return
		default:
		}
		if time.Since(began) > healthyAfter {
			delay = backoffFirst
		}
		s.log("error", fmt.Sprintf("the service exited (%v); restarting in %s", err, delay))
		select {
		case <-s.stopped:
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, backoffMax)
	}
}

func (s *supervisor) runOnce() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", s.command)
	cmd.Env = append(os.Environ(), s.env(port)...)
	cmd.SysProcAttr = childAttr()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	var lines sync.WaitGroup
	lines.Add(2)
	go s.pipe(stdout, "info", &lines)
	go s.pipe(stderr, "", &lines)
	s.started("http://127.0.0.1:" + strconv.Itoa(port))
	lines.Wait()
	err = cmd.Wait()
	s.mu.Lock()
	s.cmd = nil
	s.mu.Unlock()
	return err
}

// pipe copies output lines into the log; on stderr (level "") the level is read from the line, as
// the service's logging writes everything there.
func (s *supervisor) pipe(r io.Reader, level string, wg *sync.WaitGroup) {
	defer wg.Done()
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		l := level
		if l == "" {
			l = lineLevel(line)
		}
		s.log(l, line)
	}
}

func lineLevel(line string) string {
	switch {
	case strings.Contains(line, "ERROR") || strings.Contains(line, "CRITICAL") || strings.HasPrefix(line, "Traceback"):
		return "error"
	case strings.Contains(line, "WARNING"):
		return "warn"
	default:
		return "info"
	}
}

// Stop ends the child and the restart loop and waits for both.
func (s *supervisor) Stop() {
	close(s.stopped)
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
			return
		case <-time.After(stopGrace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	<-s.done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is what the child is told (LINK.md, "The child's environment"): how to reach the plugin,
// the secret, where to listen, and every setting as the WHOKNOWS_* variable the service already reads.
func childEnv(cfg *configuration, pluginURL, secret, botID, bundle string, port int) []string {
	env := []string{
		"WHOKNOWS_MODE=plugin",
		"WHOKNOWS_MANIFEST=" + filepath.Join(bundle, "plugin.json"),
		"WHOKNOWS_ASSETS=" + filepath.Join(bundle, "assets"),
		"WHOKNOWS_PLUGIN_URL=" + pluginURL,
		"WHOKNOWS_PLUGIN_SECRET=" + secret,
		"WHOKNOWS_BOT_USER_ID=" + botID,
		"WHOKNOWS_MATTERMOST_URL=" + pluginURL + "/service",
		"WHOKNOWS_BOT_TOKEN=" + secret,
	}
	for key, value := range cfg.Settings {
		switch key {
		case "HttpHost", "HttpPort", "CallbackUrl", "JoinPublicChannels", keyServiceCommand, keyServiceURL, keyServiceSecret:
			continue
		}
		env = append(env, envName(key)+"="+envValue(value))
	}
	return append(env,
		"WHOKNOWS_HTTP_HOST=127.0.0.1",
		"WHOKNOWS_HTTP_PORT="+strconv.Itoa(port),
		"WHOKNOWS_JOIN_PUBLIC_CHANNELS=false",
	)
}

// envName is the service's rule (settings.env_name): CardPeople -> WHOKNOWS_CARD_PEOPLE.
func envName(key string) string {
	var b strings.Builder
	b.WriteString("WHOKNOWS_")
	runes := []rune(key)
	for i, r := range runes {
		if i > 0 && r >= 'A' && r <= 'Z' {
			prev := runes[i-1]
			if (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9') {
				b.WriteByte('_')
			}
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

func envValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// internalBase is the server's own listener on loopback, with the site URL's subpath.
func internalBase(c *model.Config) string {
	scheme, host, port := "http", "127.0.0.1", "8065"
	if c != nil {
		if c.ServiceSettings.ListenAddress != nil {
			if h, pt, err := net.SplitHostPort(*c.ServiceSettings.ListenAddress); err == nil {
				port = pt
				if h != "" && h != "0.0.0.0" && h != "::" {
					host = h
				}
			}
		}
		if c.ServiceSettings.ConnectionSecurity != nil && *c.ServiceSettings.ConnectionSecurity == model.ConnSecurityTLS {
			scheme = "https"
		}
	}
	sub := ""
	if u, err := url.Parse(siteURL(c)); err == nil {
		sub = strings.TrimRight(u.Path, "/")
	}
	return scheme + "://" + net.JoinHostPort(host, port) + sub
}

func (p *Plugin) startChild(cfg *configuration, secret string) *supervisor {
	s := &supervisor{
		command: cfg.ServiceCommand,
		env: func(port int) []string {
			bundle, _ := p.API.GetBundlePath()
			return childEnv(p.getConfiguration(), p.pluginURL(), secret, p.botID(), bundle, port)
		},
		started: func(base string) {
			if p.link != nil {
				p.link.set(base, secret)
				p.awaitService()
			}
		},
		log: func(level, line string) {
			switch level {
			case "error":
				p.API.LogError("whoknows service: " + line)
			case "warn":
				p.API.LogWarn("whoknows service: " + line)
			default:
				p.API.LogInfo("whoknows service: " + line)
			}
		},
	}
	s.Start()
	return s
}
