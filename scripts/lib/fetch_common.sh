# Shared by the scripts that download pinned dependencies (fetch_onnxruntime.sh, fetch_onnx.sh,
# make_sysroot_arm64.sh): one-line errors, quiet tool runs with the log's tail on failure,
# sha256 pins, pip downloads of exact files, Debian downloads through a private apt
# configuration (the system's apt state is never touched), and the stamp + atomic swap that
# makes a cache valid only once complete.
# Source it after setting `me` (the script's name); it installs an ERR trap (no silent failure).
#   shellcheck shell=bash

die() { echo "$me: error: $*" >&2; exit 1; }
note() { echo "$me: $*" >&2; }
trap 'die "unexpected failure (line $LINENO)"' ERR   # never fail silently

# FETCH_LOG: where run() appends tool output (default: a temp file made on first use).
run() {  # run WHAT CMD...: quietly; on failure the log's last lines, then one error line
  local what=$1; shift
  [[ -n ${FETCH_LOG:-} ]] || FETCH_LOG=$(mktemp "${TMPDIR:-/tmp}/npusplit-fetch.XXXXXX")
  "$@" >>"$FETCH_LOG" 2>&1 || { tail -n 15 "$FETCH_LOG" >&2; die "$what failed (log: $FETCH_LOG)"; }
}

check_sha() {  # check_sha FILE SHA256 [WHERE]
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ $got == "$2" ]] || die "sha256 mismatch for ${1##*/}${3:+ from $3}: got $got, pinned $2 (the registry serves a different file; check and update the pins in $me)"
}

require_tools() {  # require_tools HINT TOOL...
  local hint=$1 c; shift
  for c in "$@"; do command -v "$c" >/dev/null || die "'$c' not found (run scripts/install_deps.sh${hint:+, $hint})"; done
}

# pip_fetch DIR FILE SHA256 PIP-ARGS...: downloads exactly FILE (a wheel or sdist) into DIR with
# `python3 -m pip download`, and checks its pinned sha256.
pip_fetch() {
  local dir=$1 file=$2 sha=$3; shift 3
  python3 -m pip --version >/dev/null 2>&1 || die "'python3 -m pip' not available (apt-get install python3-pip)"
  note "downloading $file (PyPI)"
  run "pip download of $file" python3 -m pip download -q --no-deps -d "$dir" "$@"
  [[ -f $dir/$file ]] || die "pip did not produce $file (got: $(ls "$dir"))"
  check_sha "$dir/$file" "$sha" PyPI
}

# The Debian mirror: the system's own (first 'deb' source of a plain suite such as 'bookworm'),
# so no host name is written in the project. DEBIAN_MIRROR=URI overrides it.
system_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do   # deb822 format
    [[ -r $f ]] || continue
    awk 'function flush() {
           if (!done && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
             n = split(suites, s, /[ \t]+/)
             for (i = 1; i <= n; i++) if (s[i] ~ /^[a-z]+$/) { split(uris, u, /[ \t]+/); print u[1]; done = 1; break }
           }
           types = uris = suites = enabled = ""
         }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { k = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
           gsub(/^[ \t]+|[ \t]+$/, "", v)
           if (k == "types") types = v; else if (k == "uris") uris = v
           else if (k == "suites") suites = v; else if (k == "enabled") enabled = tolower(v) }
         END { flush() }' "$f"
  done
  # one-line format: deb [opts] URI SUITE COMPONENTS...
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                       if ($(i + 1) ~ /^[a-z]+$/) print $i }'
}
debian_mirror() {
  local m=${DEBIAN_MIRROR:-$(system_mirror | head -n 1 || true)}
  [[ -n $m ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*.sources} (set DEBIAN_MIRROR=URI)"
  echo "$m"
}

DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# private_apt WORK ARCH SUITE...: writes WORK/apt.conf, a configuration whose sources, lists,
# cache and dpkg status are all under WORK (empty status: every dependency counts as missing),
# for architecture ARCH, then runs `apt-get update` with it. Use: apt-get -c WORK/apt.conf ...
private_apt() {
  local work=$1 arch=$2 mirror s; shift 2
  [[ -r $DEBIAN_KEYRING ]] || die "$DEBIAN_KEYRING missing (apt-get install debian-archive-keyring)"
  mirror=$(debian_mirror)
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/state"
  : >"$work/state/status"
  : >"$work/sources.list"
  for s in "$@"; do echo "deb [arch=$arch signed-by=$DEBIAN_KEYRING] $mirror $s main" >>"$work/sources.list"; done
  cat >"$work/apt.conf" <<EOF
Dir::Etc::sourcelist "$work/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::preferencesparts "-";
Dir::State "$work/state";
Dir::State::Lists "$work/lists";
Dir::State::status "$work/state/status";
Dir::Cache "$work/cache";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Install-Recommends "false";
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::Check-Valid-Until "false";
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Post-Invoke;
#clear DPkg::Pre-Install-Pkgs;
EOF
  [[ $EUID -ne 0 ]] || echo 'APT::Sandbox::User "root";' >>"$work/apt.conf"  # private dirs are not _apt's
  note "apt-get update ($arch: $*) with a private configuration"
  run "apt-get update ($arch $*)" apt-get -q -c "$work/apt.conf" update
}

# swap_in TMP DEST STAMP-FILE-NAME STAMP: writes the stamp last into TMP, then replaces DEST by
# TMP (a concurrent run that finished first keeps its copy).
swap_in() {
  local tmp=$1 dest=$2 name=$3 stamp=$4
  echo "$stamp" >"$tmp/$name"
  if [[ -f $dest/$name && $(<"$dest/$name") == "$stamp" ]]; then rm -rf "$tmp"; return 0; fi
  if [[ -e $dest ]]; then mv -T "$dest" "$dest.old.$$" && rm -rf "$dest.old.$$"; fi
  mv -T "$tmp" "$dest" 2>/dev/null || [[ -f $dest/$name && $(<"$dest/$name") == "$stamp" ]] ||
    die "could not move $tmp to $dest"
}

# stamp_ok DEST STAMP-FILE-NAME STAMP: the cache in DEST was made with exactly these pins.
stamp_ok() { [[ -f $1/$2 && $(<"$1/$2") == "$3" ]]; }
