#!/usr/bin/env bash
#
# aloha-daemon.sh: run an Aloha daemon (bin/alohad master|worker|local) in the
# background, with a pid file and a log file, and stop it again.
#
#   bash sbin/aloha-daemon.sh start master -h 127.0.0.1 -p 1234
#   bash sbin/aloha-daemon.sh start worker -h 127.0.0.1 aloha://127.0.0.1:1234
#   bash sbin/aloha-daemon.sh status master
#   bash sbin/aloha-daemon.sh stop worker
#
# Everything after the role is passed to alohad unchanged.
#
# Environment (each may also be set in $ALOHA_CONF_DIR/aloha-env.sh):
#   ALOHA_HOME          the distribution; default: the directory above sbin/
#   ALOHA_CONF_DIR      configuration directory; default: $ALOHA_HOME/conf
#   ALOHA_LOG_DIR       where the daemons' output goes; default: $ALOHA_HOME/logs
#   ALOHA_PID_DIR       where the pid files go; default: /tmp
#   ALOHA_IDENT_STRING  names this user's files; default: $USER
#   ALOHA_INSTANCE      tells several daemons of one role apart; default: 1
#   ALOHA_STOP_TIMEOUT  seconds stop waits after SIGTERM before SIGKILL; default: 30
#
# Files:
#   $ALOHA_PID_DIR/aloha-$ALOHA_IDENT_STRING-<role>-<instance>.pid
#   $ALOHA_LOG_DIR/aloha-$ALOHA_IDENT_STRING-<role>-<instance>-<hostname>.out
#     (the previous five kept as .out.1 ... .out.5)

set -euo pipefail

usage="Usage: aloha-daemon.sh (start|stop|status|restart) (master|worker|local) [alohad arguments...]

  start    start bin/alohad <role> <arguments> in the background
  stop     send SIGTERM, then SIGKILL after \$ALOHA_STOP_TIMEOUT seconds (default 30)
  status   exit 0 if the daemon is running, 1 if not
  restart  stop, then start with the given arguments

Environment: ALOHA_HOME, ALOHA_CONF_DIR, ALOHA_LOG_DIR, ALOHA_PID_DIR,
ALOHA_IDENT_STRING, ALOHA_INSTANCE, ALOHA_STOP_TIMEOUT (see the head of this script)."

die_usage() {
  [[ $# -gt 0 ]] && echo "aloha-daemon.sh: $*" >&2
  echo "$usage" >&2
  exit 1
}

if [[ $# -lt 2 ]]; then
  die_usage
fi

action=$1
role=$2
shift 2

case $action in
  start | stop | status | restart) ;;
  *) die_usage "unknown action '$action'" ;;
esac
case $role in
  master | worker | local) ;;
  *) die_usage "unknown role '$role'" ;;
esac

if [[ -z ${ALOHA_HOME:-} ]]; then
  ALOHA_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
fi
export ALOHA_HOME
export ALOHA_CONF_DIR="${ALOHA_CONF_DIR:-$ALOHA_HOME/conf}"

# aloha-env.sh is written by the user: allow unset variables in it, and export
# what it assigns so that alohad sees it.
if [[ -f $ALOHA_CONF_DIR/aloha-env.sh ]]; then
  set +u -a
  # shellcheck source=/dev/null
  . "$ALOHA_CONF_DIR/aloha-env.sh"
  set -u +a
fi

export ALOHA_LOG_DIR="${ALOHA_LOG_DIR:-$ALOHA_HOME/logs}"
export ALOHA_PID_DIR="${ALOHA_PID_DIR:-/tmp}"
if [[ -z ${ALOHA_IDENT_STRING:-} ]]; then
  ALOHA_IDENT_STRING=${USER:-$(id -un)}
fi
export ALOHA_IDENT_STRING
instance=${ALOHA_INSTANCE:-1}
if ! [[ $instance =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "aloha-daemon.sh: ALOHA_INSTANCE must be a number or a name, not '$instance'" >&2
  exit 1
fi
stop_timeout=${ALOHA_STOP_TIMEOUT:-30}
if ! [[ $stop_timeout =~ ^[0-9]+$ ]]; then
  echo "aloha-daemon.sh: ALOHA_STOP_TIMEOUT must be a number of seconds, not '$stop_timeout'" >&2
  exit 1
fi

host=$(hostname 2>/dev/null || uname -n)
pid_file="$ALOHA_PID_DIR/aloha-$ALOHA_IDENT_STRING-$role-$instance.pid"
log_file="$ALOHA_LOG_DIR/aloha-$ALOHA_IDENT_STRING-$role-$instance-$host.out"
alohad="$ALOHA_HOME/bin/alohad"

# alive PID: the process exists and has not exited. A process that exited but
# was not reaped yet (a zombie, as under an init that does not reap orphans)
# counts as gone.
alive() {
  local pid=$1 stat state
  if [[ -d /proc/self ]]; then
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    # The state follows the command name, which is in parentheses and may
    # itself contain spaces and parentheses.
    state=${stat##*) }
    state=${state%% *}
    [[ $state != Z && $state != X ]]
  else
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
    [[ $state != Z* ]]
  fi
}

# is_alohad PID: PID is a live process whose command line names alohad, so
# that a pid reused by another program is never signalled.
is_alohad() {
  local pid=$1 args
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  else
    args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
  fi
  [[ $args == *alohad* ]]
}

# read_pid: the pid recorded in the pid file, or nothing.
read_pid() {
  local pid=""
  if [[ -f $pid_file ]]; then
    read -r pid <"$pid_file" || true
  fi
  echo "$pid"
}

# wait_gone PID TENTHS: wait up to TENTHS tenths of a second for PID to exit.
wait_gone() {
  local pid=$1 tenths=$2 i
  for ((i = 0; i < tenths; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  ! alive "$pid"
}

rotate_log() {
  local n
  [[ -f $log_file ]] || return 0
  for ((n = 4; n >= 1; n--)); do
    if [[ -f $log_file.$n ]]; then
      mv -f "$log_file.$n" "$log_file.$((n + 1))"
    fi
  done
  mv -f "$log_file" "$log_file.1"
}

do_start() {
  local pid newpid i status
  pid=$(read_pid)
  if [[ -n $pid ]] && is_alohad "$pid"; then
    echo "$role running as process $pid. Stop it first." >&2
    exit 1
  fi
  if [[ ! -x $alohad ]]; then
    echo "failed to launch: $alohad is missing or not executable" >&2
    exit 1
  fi

  mkdir -p "$ALOHA_LOG_DIR" "$ALOHA_PID_DIR"
  if [[ ! -w $ALOHA_LOG_DIR || ! -w $ALOHA_PID_DIR ]]; then
    echo "failed to launch: $ALOHA_LOG_DIR and $ALOHA_PID_DIR must be writable" >&2
    exit 1
  fi
  rotate_log

  nohup "$alohad" "$role" "$@" >>"$log_file" 2>&1 </dev/null &
  newpid=$!
  echo "$newpid" >"$pid_file"

  # A daemon that cannot start (bad flag, port taken, bad configuration)
  # exits within moments: watch it for about two seconds.
  for ((i = 0; i < 20; i++)); do
    if ! alive "$newpid"; then
      status=0
      wait "$newpid" 2>/dev/null || status=$?
      rm -f "$pid_file"
      {
        echo "failed to launch: alohad $role exited with status $status; last lines of $log_file:"
        tail -n 10 "$log_file" | sed 's/^/  /'
      } >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "starting $role, logging to $log_file"
}

do_stop() {
  local pid
  pid=$(read_pid)
  if [[ -z $pid ]] || ! is_alohad "$pid"; then
    rm -f "$pid_file"
    echo "no $role to stop"
    return 0
  fi
  echo "stopping $role"
  if ! kill -TERM "$pid" && alive "$pid"; then
    echo "cannot signal $role (pid $pid)" >&2
    exit 1
  fi
  if ! wait_gone "$pid" $((stop_timeout * 10)); then
    echo "$role (pid $pid) did not stop within ${stop_timeout}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 50; then
      echo "$role (pid $pid) survived SIGKILL" >&2
      exit 1
    fi
  fi
  rm -f "$pid_file"
}

do_status() {
  local pid
  pid=$(read_pid)
  if [[ -n $pid ]] && is_alohad "$pid"; then
    echo "$role is running (pid $pid)"
    return 0
  fi
  if [[ -f $pid_file ]]; then
    rm -f "$pid_file"
    echo "$role is not running, but a stale pid file was found (pid ${pid:-none}); removed $pid_file"
  else
    echo "$role is not running"
  fi
  return 1
}

case $action in
  start) do_start "$@" ;;
  stop) do_stop ;;
  status)
    if do_status; then exit 0; else exit 1; fi
    ;;
  restart)
    do_stop
    do_start "$@"
    ;;
esac
