#!/usr/bin/env bash
# make test: headless Chromium for the report's browser test (Debian's package, never a
# downloaded browser build). Installs it when missing and this machine allows (root with apt);
# otherwise says so, and the browser test is skipped with the same reason.
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "make test: installing chromium (Debian package) for the report's browser test" >&2
  if apt-get install -y -q chromium >/dev/null 2>&1 \
     || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "make test: chromium is not installed and cannot be installed here (needs root and apt);" \
     "the report's browser test will be skipped. Install it with: apt-get install chromium" >&2
exit 0
