package server

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/events"
)

// Listeners builds the built-in event listeners that aloha.extraListeners
// names (log, webhook, exec, in any case), configured by the
// aloha.listener.* keys. It refuses an unknown name, listing the known
// ones, a webhook without a URL and an exec listener without a command,
// and reports every problem at once.
func Listeners(conf *config.Conf, log *slog.Logger) ([]events.Listener, error) {
	names := conf.List(config.ExtraListeners)
	problem := func(key, value, reason string) error {
		return &config.ValueError{Key: key, Value: value, Source: conf.Source(key), Reason: reason}
	}
	needs := func(key, name string) error {
		return problem(key, conf.String(key), fmt.Sprintf("required when %s includes %s (from %s)",
			config.ExtraListeners, name, conf.Source(config.ExtraListeners)))
	}
	var out []events.Listener
	var errs []error
	for _, name := range names {
		switch strings.ToLower(name) {
		case events.LogListenerName:
			out = append(out, events.NewLogListener(log))
		case events.WebhookListenerName:
			url := conf.String(config.WebhookURL)
			if url == "" {
				errs = append(errs, needs(config.WebhookURL, name))
				continue
			}
			w, err := events.NewWebhook(events.WebhookOptions{
				URL:     url,
				Timeout: conf.Duration(config.WebhookTimeout),
				Retries: conf.Int(config.WebhookRetries),
			})
			if err != nil {
				errs = append(errs, problem(config.WebhookURL, url, err.Error()))
				continue
			}
			out = append(out, w)
		case events.ExecListenerName:
			command := conf.String(config.ExecListenerCommand)
			if strings.TrimSpace(command) == "" {
				errs = append(errs, needs(config.ExecListenerCommand, name))
				continue
			}
			x, err := events.NewExec(events.ExecOptions{Command: command, Timeout: conf.Duration(config.ExecListenerTimeout)})
			if err != nil {
				errs = append(errs, problem(config.ExecListenerCommand, command, err.Error()))
				continue
			}
			out = append(out, x)
		default:
			errs = append(errs, problem(config.ExtraListeners, strings.Join(names, ","), fmt.Sprintf(
				"unknown listener %q; known listeners: %s", name, strings.Join(events.BuiltinNames(), ", "))))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
