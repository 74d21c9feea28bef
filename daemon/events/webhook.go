package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/alohasched/aloha/api"
)

// Webhook defaults.
const (
	DefaultWebhookTimeout = 5 * time.Second
	DefaultWebhookRetries = 3
	// DefaultWebhookBackoff is the delay before the first retry; it
	// doubles for each further one, up to maxWebhookBackoff.
	DefaultWebhookBackoff = 250 * time.Millisecond
	maxWebhookBackoff     = 10 * time.Second
	// maxErrorBody bounds how much of a failed answer's body is quoted.
	maxErrorBody = 256
)

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	// URL receives the POSTs; http or https.
	URL string
	// Timeout bounds one attempt; 0 means DefaultWebhookTimeout.
	Timeout time.Duration
	// Retries is how many times a POST that failed with a network error
	// or a 5xx answer is tried again; negative means none.
	Retries int
	// Backoff is the delay before the first retry, doubling after; 0
	// means DefaultWebhookBackoff.
	Backoff time.Duration
	// Client sends the requests; nil means a client of its own.
	Client *http.Client
}

// Webhook POSTs each event as JSON (api.Event's JSON form) to a URL.
type Webhook struct {
	opts    WebhookOptions
	display string // the URL without credentials and query, for errors
}

// NewWebhook checks opts and returns the listener.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	u, err := url.Parse(opts.URL)
	switch {
	case opts.URL == "":
		return nil, errors.New("webhook listener: no URL")
	case err != nil:
		return nil, fmt.Errorf("webhook listener: URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("webhook listener: URL %q: want an http:// or https:// URL", opts.URL)
	case u.Host == "":
		return nil, fmt.Errorf("webhook listener: URL %q has no host", opts.URL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWebhookTimeout
	}
	opts.Retries = max(opts.Retries, 0)
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultWebhookBackoff
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	display := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	return &Webhook{opts: opts, display: display}, nil
}

// Name is "webhook".
func (w *Webhook) Name() string { return WebhookListenerName }

// OnEvent POSTs e, retrying network errors and 5xx answers with a
// doubling delay. It returns the last attempt's error.
func (w *Webhook) OnEvent(ctx context.Context, e api.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("webhook: encode event %d: %w", e.Seq, err)
	}
	delay := w.opts.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= w.opts.Retries {
			if retry {
				return fmt.Errorf("%w (%d attempts)", err, attempt+1)
			}
			return err
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (stopped before retrying)", err)
		}
		delay = min(2*delay, maxWebhookBackoff)
	}
}

// post makes one attempt. retry says whether a failure is worth another.
func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", w.display, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aloha-webhook")
	res, err := w.opts.Client.Do(req)
	if err != nil {
		// The url package's error repeats the full URL; say it without
		// credentials or query.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, fmt.Errorf("webhook %s: %w", w.display, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
		return false, nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	err = fmt.Errorf("webhook %s: answered %s", w.display, res.Status)
	if s := bytes.TrimSpace(snippet); len(s) > 0 {
		err = fmt.Errorf("%w: %q", err, s)
	}
	return res.StatusCode >= 500, err
}
