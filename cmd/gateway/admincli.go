package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// adminClient calls the admin API of a running gateway.
type adminClient struct {
	base  string
	token string
}

// adminFlags registers --admin and --token-file on fs.
func adminFlags(fs *flag.FlagSet) func() (*adminClient, error) {
	base := fs.String("admin", "http://127.0.0.1:9091", "admin listener `URL`")
	tokenFile := fs.String("token-file", "", "`file` holding the admin token (default: $GATEHOUSE_ADMIN_TOKEN)")
	return func() (*adminClient, error) {
		tok := os.Getenv("GATEHOUSE_ADMIN_TOKEN")
		if *tokenFile != "" {
			b, err := os.ReadFile(*tokenFile)
			if err != nil {
				return nil, err
			}
			tok = strings.TrimSpace(string(b))
		}
		if tok == "" {
			return nil, fmt.Errorf("no admin token: pass --token-file or set GATEHOUSE_ADMIN_TOKEN")
		}
		return &adminClient{base: strings.TrimRight(*base, "/"), token: tok}, nil
	}
}

// call sends a request and decodes a 2xx JSON answer into out; an error
// answer is returned as an error carrying the gateway's code and message.
func (c *adminClient) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&e)
		return fmt.Errorf("%s: %s (%s)", res.Status, e.Error.Message, e.Error.Code)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// cmdSessions is `gateway sessions list --user U`.
func cmdSessions(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(stderr, "usage: gateway sessions list --user SUBJECT [--admin URL] [--token-file FILE]")
		return 2
	}
	fs := flag.NewFlagSet("sessions list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the user (subject) whose sessions to list")
	client := adminFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *user == "" {
		fmt.Fprintln(stderr, "gateway sessions list: --user is required")
		return 2
	}
	c, err := client()
	if err != nil {
		fmt.Fprintf(stderr, "gateway sessions list: %v\n", err)
		return 1
	}
	var out struct {
		Sessions []struct {
			ID          string    `json:"id"`
			IP          string    `json:"ip"`
			UserAgent   string    `json:"user_agent"`
			CreatedAt   time.Time `json:"created_at"`
			RefreshedAt time.Time `json:"refreshed_at"`
		} `json:"sessions"`
	}
	if err := c.call("GET", "/v1/sessions?user="+url.QueryEscape(*user), nil, &out); err != nil {
		fmt.Fprintf(stderr, "gateway sessions list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tCREATED\tLAST REFRESH\tIP\tUSER AGENT")
	for _, s := range out.Sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.CreatedAt.Format(time.RFC3339), s.RefreshedAt.Format(time.RFC3339), s.IP, s.UserAgent)
	}
	tw.Flush()
	return 0
}

// cmdRevoke is `gateway revoke --session S | --user U | --jti J`.
func cmdRevoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var req struct {
		Session string `json:"session,omitempty"`
		User    string `json:"user,omitempty"`
		JTI     string `json:"jti,omitempty"`
	}
	fs.StringVar(&req.Session, "session", "", "revoke one session by id")
	fs.StringVar(&req.User, "user", "", "revoke every session of a user (subject)")
	fs.StringVar(&req.JTI, "jti", "", "revoke one access token by its jti")
	client := adminFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if n := btoi(req.Session != "") + btoi(req.User != "") + btoi(req.JTI != ""); n != 1 {
		fmt.Fprintln(stderr, "gateway revoke: give exactly one of --session, --user or --jti")
		return 2
	}
	c, err := client()
	if err != nil {
		fmt.Fprintf(stderr, "gateway revoke: %v\n", err)
		return 1
	}
	var out any
	if err := c.call("POST", "/v1/revoke", req, &out); err != nil {
		fmt.Fprintf(stderr, "gateway revoke: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "revoked")
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
