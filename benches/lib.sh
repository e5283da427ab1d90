# What the benchmark scripts share; each sources it: . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log() { printf '==> %s\n' "$*" >&2; }

need() { # need COMMAND DEBIAN-PACKAGE: installs the package when the command is missing
    command -v "$1" >/dev/null && return
    log "installing $2 (for $1)"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "$2" >/dev/null
}
