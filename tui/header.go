package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
)

// phase is the state of the connection to the cluster.
type phase int

const (
	connecting   phase = iota // no answer yet
	connected                 // the last call got an answer
	reconnecting              // calls fail: a failover, or the master is down
)

// conn is what the header says about the connection.
type conn struct {
	phase phase
	since time.Time // when the phase began
	err   error     // why calls fail
}

// header is the top of every view: the leader, the cluster's totals, the
// connection and the views' tabs.
type header struct {
	st      *styles
	data    *cluster
	conn    *conn
	masters string
	width   int
}

func (h *header) SetSize(width, _ int) { h.width = width }

// lines is the header's height.
const headerLines = 3

func (h *header) View(now time.Time, current view, detailID string) string {
	st := h.st
	sep := st.faint.Render("  │  ")
	var l1, l2 strings.Builder
	l1.WriteString(st.logo.Render("Aloha top"))
	l1.WriteString(sep)
	if m := h.data.master; m != nil {
		leader := m.Leader
		if leader == "" {
			leader = "none elected"
		}
		l1.WriteString(st.faint.Render("leader ") + st.bold.Render(leader))
		if m.State.IsLeader() {
			l1.WriteString(" " + st.ok.Render(string(m.State)) + st.faint.Render(" epoch ") + strconv.FormatUint(m.Epoch, 10))
		} else {
			l1.WriteString(st.faint.Render(" (asked "+m.URL+", ") + st.warn.Render(string(m.State)) + st.faint.Render(")"))
		}
		if m.RecoveryMode != "" && m.RecoveryMode != "NONE" {
			l1.WriteString(st.faint.Render(" recovery " + m.RecoveryMode))
		}
	} else {
		l1.WriteString(st.faint.Render("masters " + h.masters))
	}
	l1.WriteString(sep)
	l1.WriteString(h.connView(now))

	if m := h.data.master; m != nil {
		l2.WriteString(st.faint.Render("workers ") + st.bold.Render(strconv.Itoa(m.AliveWorkers)) + st.faint.Render(" alive"))
		l2.WriteString(sep + st.faint.Render("cores ") + strconv.Itoa(m.CoresUsed) + "/" + strconv.Itoa(m.Cores))
		l2.WriteString(sep + st.faint.Render("memory ") + mem(m.MemoryUsed) + "/" + mem(m.Memory))
	} else {
		l2.WriteString(st.faint.Render("workers -  │  cores -  │  memory -"))
	}
	d := h.data
	d.count(now)
	l2.WriteString(sep + st.faint.Render("apps ") + st.states[string(api.AppRunning)].Render(strconv.Itoa(d.running)) + st.faint.Render(" running · ") +
		st.warn.Render(strconv.Itoa(d.queued)) + st.faint.Render(" waiting · "))
	failed := strconv.Itoa(d.failedHour)
	if d.failedHour > 0 {
		failed = st.bad.Render(failed)
	}
	l2.WriteString(failed + st.faint.Render(" failed in the last hour"))

	return clip(l1.String(), h.width) + "\n" + clip(l2.String(), h.width) + "\n" + h.tabs(current, detailID)
}

func (h *header) connView(now time.Time) string {
	c := h.conn
	switch c.phase {
	case connected:
		return h.st.ok.Render("● connected")
	case reconnecting:
		s := h.st.bad.Render("⟳ reconnecting " + human(now.Sub(c.since)))
		if c.err != nil {
			s += h.st.faint.Render(" (" + short(c.err) + ")")
		}
		return s
	}
	return h.st.warn.Render("⟳ connecting…")
}

// tabs names the views with their keys, the current one marked.
func (h *header) tabs(current view, detailID string) string {
	var b strings.Builder
	for v := viewApps; v <= viewDetail; v++ {
		name := v.String()
		if v == viewDetail && detailID != "" {
			name += " " + detailID
		}
		label := strconv.Itoa(int(v)+1) + " " + name
		if v == current {
			b.WriteString(h.st.tabActive.Render("[" + label + "]"))
		} else {
			b.WriteString(h.st.tab.Render(" " + label + " "))
		}
		b.WriteString(" ")
	}
	return clip(b.String(), h.width)
}

// short says in a few words what went wrong, for the header and the
// status line.
func short(err error) string {
	var (
		ue *client.UnreachableError
		se *client.StandbyError
		re *client.RefusedError
		ie *client.InvalidError
	)
	switch {
	case errors.As(err, &ue):
		msg := "no master reachable at " + strings.Join(ue.Masters, ",")
		if ue.Err != nil {
			msg += ": " + rootCause(ue.Err)
		}
		return msg
	case errors.As(err, &se):
		return se.Error()
	case errors.Is(err, client.ErrUnauthenticated):
		return "authentication failed: check ALOHA_SECRET or --secret-file"
	case errors.As(err, &re):
		return re.Reason
	case errors.As(err, &ie):
		return ie.Reason
	case errors.Is(err, client.ErrNotFound):
		return err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	return rootCause(err)
}

// rootCause shortens a wrapped network error to its last part.
func rootCause(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
