// Package backupcli is `strata backup`, the operators' command line for
// the backups of a running server: create, status, list, restore, cancel,
// verify and delete, through the server's REST API.
//
// Exit codes: 0 success (or accepted, without --wait), 1 the job failed,
// the backup is broken, or a request failed, 2 a usage error, 3 the job
// was cancelled.
package backupcli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitUsage    = 2
	ExitCanceled = 3
)

const usage = `usage: strata backup <command> [flags] [id]

commands:
  create <id>    start a backup (--include, --exclude, --compression, --wait)
  status <id>    a backup's status (--restore: its restore's)
  list           the backend's backups (--order asc|desc)
  restore <id>   restore a backup (--include, --exclude, --wait)
  cancel <id>    cancel a running backup (--restore: a running restore)
  verify <id>    check a backup where it is stored (--full: read every byte)
  delete <id>    delete an ended backup from its backend

flags (also from the environment):
  --url        the server (STRATA_URL, default http://127.0.0.1:8080)
  --api-key    an API key (STRATA_API_KEY)
  --backend    filesystem, s3, gcs or azure (STRATA_BACKUP_BACKEND, default filesystem)
  --bucket, --path   a location other than the backend's default
  --json       print the server's answers as JSON, for scripts
  --wait       wait for the job to end, showing its progress
`

// Options are what Run needs of its environment.
type Options struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer
	// Terminal tells whether Stdout is a terminal: progress is then drawn
	// as one bar redrawn in place, else printed as plain lines.
	Terminal bool
	// Poll is the wait between two status reads with --wait (0: 500 ms).
	Poll time.Duration
}

// Run runs `strata backup args…` and returns the exit code.
func Run(args []string, o Options) int {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(o.Stderr, usage)
		return ExitUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet("strata backup "+cmd, flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	env := func(name, def string) string {
		if v := o.Getenv(name); v != "" {
			return v
		}
		return def
	}
	c := &client{opts: o}
	fs.StringVar(&c.base, "url", env("STRATA_URL", "http://127.0.0.1:8080"), "the server")
	fs.StringVar(&c.apiKey, "api-key", env("STRATA_API_KEY", ""), "API key")
	fs.StringVar(&c.backend, "backend", env("STRATA_BACKUP_BACKEND", "filesystem"), "backup backend")
	bucket := fs.String("bucket", "", "bucket (or container) other than the backend's")
	path := fs.String("path", "", "path other than the backend's")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	wait := fs.Bool("wait", false, "wait for the end")
	include := fs.String("include", "", "classes to include, comma-separated")
	exclude := fs.String("exclude", "", "classes to exclude, comma-separated")
	compression := fs.String("compression", "", "compression level (create)")
	restore := fs.Bool("restore", false, "the restore's status or cancel")
	full := fs.Bool("full", false, "verify every byte")
	order := fs.String("order", "desc", "list order: asc or desc")
	positional, err := parse(fs, args[1:])
	if err != nil {
		return ExitUsage
	}
	c.base = strings.TrimRight(c.base, "/")
	c.location = url.Values{}
	if *bucket != "" {
		c.location.Set("bucket", *bucket)
	}
	if *path != "" {
		c.location.Set("path", *path)
	}
	needID := cmd != "list"
	if needID != (len(positional) == 1) || len(positional) > 1 {
		if needID {
			fmt.Fprintf(o.Stderr, "strata backup %s: give one backup id\n", cmd)
		} else {
			fmt.Fprintf(o.Stderr, "strata backup %s: takes no arguments\n", cmd)
		}
		return ExitUsage
	}
	id := ""
	if needID {
		id = positional[0]
	}
	config := map[string]any{}
	if *bucket != "" {
		config["Bucket"] = *bucket
	}
	if *path != "" {
		config["Path"] = *path
	}
	body := map[string]any{}
	if *include != "" {
		body["include"] = strings.Split(*include, ",")
	}
	if *exclude != "" {
		body["exclude"] = strings.Split(*exclude, ",")
	}
	ctx := context.Background()
	switch cmd {
	case "create":
		body["id"] = id
		if *compression != "" {
			config["CompressionLevel"] = *compression
		}
		if len(config) > 0 {
			body["config"] = config
		}
		return c.start(ctx, "/v1/backups/"+c.esc(c.backend), body, "/v1/backups/"+c.esc(c.backend)+"/"+c.esc(id), *wait)
	case "restore":
		if len(config) > 0 {
			body["config"] = config
		}
		home := "/v1/backups/" + c.esc(c.backend) + "/" + c.esc(id) + "/restore"
		return c.start(ctx, home, body, home, *wait)
	case "status":
		return c.status(ctx, c.statusPath(id, *restore))
	case "cancel":
		_, code := c.call(ctx, http.MethodDelete, c.statusPath(id, *restore), nil, nil)
		return code
	case "delete":
		_, code := c.call(ctx, http.MethodDelete, c.statusPath(id, false), url.Values{"purge": {"true"}}, nil)
		return code
	case "list":
		if *order != "asc" && *order != "desc" {
			fmt.Fprintf(o.Stderr, "strata backup list: --order is asc or desc, not %q\n", *order)
			return ExitUsage
		}
		return c.list(ctx, *order)
	case "verify":
		mode := "metadata"
		if *full {
			mode = "full"
		}
		return c.verify(ctx, id, mode)
	}
	fmt.Fprintf(o.Stderr, "strata backup: unknown command %q\n\n%s", cmd, usage)
	return ExitUsage
}

// parse parses flags wherever they are among the arguments and returns
// the others.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// client talks to one server.
type client struct {
	opts                  Options
	base, apiKey, backend string
	location              url.Values
	json                  bool
}

func (c *client) esc(s string) string { return url.PathEscape(s) }

func (c *client) statusPath(id string, restore bool) string {
	p := "/v1/backups/" + c.esc(c.backend) + "/" + c.esc(id)
	if restore {
		p += "/restore"
	}
	return p
}

// call makes one request; a failure is printed and reported as an exit
// code (ExitFailed), else ExitOK with the answer's body.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body any) ([]byte, int) {
	q := url.Values{}
	for k, v := range c.location {
		q[k] = v
	}
	for k, v := range query {
		q[k] = v
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			fmt.Fprintf(c.opts.Stderr, "strata backup: %v\n", err)
			return nil, ExitFailed
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		fmt.Fprintf(c.opts.Stderr, "strata backup: %v\n", err)
		return nil, ExitUsage
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(c.opts.Stderr, "strata backup: %v\n", err)
		return nil, ExitFailed
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		fmt.Fprintf(c.opts.Stderr, "strata backup: read the answer: %v\n", err)
		return nil, ExitFailed
	}
	if resp.StatusCode >= 300 {
		fmt.Fprintf(c.opts.Stderr, "strata backup: %s %s: %s: %s\n", method, path, resp.Status, serverMessage(b))
		return b, ExitFailed
	}
	return b, ExitOK
}

// serverMessage is the message of an error answer, or its body.
func serverMessage(b []byte) string {
	var e struct {
		Error []struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		if len(e.Error) > 0 {
			return e.Error[0].Message
		}
		if e.Message != "" {
			return e.Message
		}
	}
	return strings.TrimSpace(string(b))
}

// status is a job's status answer.
type status struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Error    string    `json:"error"`
	Progress *progress `json:"progress"`
}

type progress struct {
	BytesDone      int64   `json:"bytesDone"`
	BytesTotal     int64   `json:"bytesTotal"`
	FilesDone      int64   `json:"filesDone"`
	FilesTotal     int64   `json:"filesTotal"`
	BytesPerSecond float64 `json:"bytesPerSecond"`
	EtaSeconds     float64 `json:"etaSeconds"`
}

// exitOf is the exit code of a job's status.
func exitOf(st string) int {
	switch st {
	case "FAILED":
		return ExitFailed
	case "CANCELED":
		return ExitCanceled
	}
	return ExitOK
}

// start starts a job and, with wait, follows it until it ends.
func (c *client) start(ctx context.Context, path string, body any, statusPath string, wait bool) int {
	b, code := c.call(ctx, http.MethodPost, path, nil, body)
	if code != ExitOK {
		return code
	}
	if !wait {
		c.print(b, func(st status) string { return fmt.Sprintf("%s %s", st.ID, st.Status) })
		return ExitOK
	}
	return c.follow(ctx, statusPath)
}

// status prints a job's status once.
func (c *client) status(ctx context.Context, path string) int {
	b, code := c.call(ctx, http.MethodGet, path, nil, nil)
	if code != ExitOK {
		return code
	}
	c.print(b, describe)
	var st status
	json.Unmarshal(b, &st)
	return exitOf(st.Status)
}

// print writes an answer as JSON (--json) or as the line line renders.
func (c *client) print(b []byte, line func(status) string) {
	if c.json {
		c.opts.Stdout.Write(append(bytes.TrimSpace(b), '\n'))
		return
	}
	var st status
	json.Unmarshal(b, &st)
	fmt.Fprintln(c.opts.Stdout, line(st))
}

// describe renders a status as one line.
func describe(st status) string {
	s := st.ID + " " + st.Status
	if p := st.Progress; p != nil && p.BytesTotal > 0 {
		s += " " + progressText(p)
	}
	if st.Error != "" {
		s += ": " + st.Error
	}
	return s
}

func progressText(p *progress) string {
	pct := 100 * float64(p.BytesDone) / float64(p.BytesTotal)
	s := fmt.Sprintf("%3.0f%% %s / %s, %d / %d files, %s/s", pct, size(p.BytesDone), size(p.BytesTotal), p.FilesDone, p.FilesTotal, size(int64(p.BytesPerSecond)))
	if p.EtaSeconds > 0 {
		s += ", ETA " + (time.Duration(p.EtaSeconds * float64(time.Second))).Round(time.Second).String()
	}
	return s
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// follow polls a job until it ends, showing its progress: a bar redrawn
// in place on a terminal, else a line whenever the status changes and at
// most one a second while it runs; with --json only the final answer.
func (c *client) follow(ctx context.Context, path string) int {
	var last string
	var lastLine time.Time
	for {
		b, code := c.call(ctx, http.MethodGet, path, nil, nil)
		if code != ExitOK {
			return code
		}
		var st status
		if err := json.Unmarshal(b, &st); err != nil {
			fmt.Fprintf(c.opts.Stderr, "strata backup: unreadable status: %v\n", err)
			return ExitFailed
		}
		ended := st.Status == "SUCCESS" || st.Status == "FAILED" || st.Status == "CANCELED"
		switch {
		case c.json:
		case c.opts.Terminal && !ended:
			fmt.Fprintf(c.opts.Stdout, "\r\033[K%s", bar(st))
		case !c.opts.Terminal && !ended && (st.Status != last || time.Since(lastLine) >= time.Second):
			fmt.Fprintln(c.opts.Stdout, describe(st))
			lastLine = time.Now()
		}
		last = st.Status
		if ended {
			if c.opts.Terminal && !c.json {
				fmt.Fprint(c.opts.Stdout, "\r\033[K")
			}
			c.print(b, describe)
			return exitOf(st.Status)
		}
		select {
		case <-ctx.Done():
			return ExitFailed
		case <-time.After(c.opts.Poll):
		}
	}
}

// bar renders a running job as a progress bar.
func bar(st status) string {
	const width = 30
	p := st.Progress
	if p == nil || p.BytesTotal == 0 {
		return st.ID + " " + st.Status
	}
	filled := int(width * p.BytesDone / p.BytesTotal)
	return fmt.Sprintf("%s %s [%s%s] %s", st.ID, st.Status, strings.Repeat("#", filled), strings.Repeat(".", width-filled), progressText(p))
}

// list prints the backend's backups: a JSON array with --json, else a
// line each.
func (c *client) list(ctx context.Context, order string) int {
	b, code := c.call(ctx, http.MethodGet, "/v1/backups/"+c.esc(c.backend), url.Values{"order": {order}}, nil)
	if code != ExitOK {
		return code
	}
	if c.json {
		c.opts.Stdout.Write(append(bytes.TrimSpace(b), '\n'))
		return ExitOK
	}
	var items []struct {
		ID          string   `json:"id"`
		Status      string   `json:"status"`
		Classes     []string `json:"classes"`
		StartedAt   string   `json:"startedAt"`
		CompletedAt string   `json:"completedAt"`
	}
	if err := json.Unmarshal(b, &items); err != nil {
		fmt.Fprintf(c.opts.Stderr, "strata backup: unreadable list: %v\n", err)
		return ExitFailed
	}
	for _, it := range items {
		fmt.Fprintf(c.opts.Stdout, "%s\t%s\t%s\t%s\n", it.ID, it.Status, it.StartedAt, strings.Join(it.Classes, ","))
	}
	return ExitOK
}

// verify prints a verify report; a broken backup exits ExitFailed.
func (c *client) verify(ctx context.Context, id, mode string) int {
	b, code := c.call(ctx, http.MethodPost, c.statusPath(id, false)+"/verify", nil, map[string]any{"mode": mode})
	if code != ExitOK {
		return code
	}
	var rep struct {
		OK       bool `json:"ok"`
		Chunks   int  `json:"chunks"`
		Files    int  `json:"files"`
		Problems []struct {
			File  string `json:"file"`
			Error string `json:"error"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		fmt.Fprintf(c.opts.Stderr, "strata backup: unreadable report: %v\n", err)
		return ExitFailed
	}
	if c.json {
		c.opts.Stdout.Write(append(bytes.TrimSpace(b), '\n'))
	} else if rep.OK {
		fmt.Fprintf(c.opts.Stdout, "%s: ok (%s: %d chunks, %d files)\n", id, mode, rep.Chunks, rep.Files)
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintf(c.opts.Stdout, "%s: %s\n", p.File, p.Error)
		}
	}
	if !rep.OK {
		return ExitFailed
	}
	return ExitOK
}
