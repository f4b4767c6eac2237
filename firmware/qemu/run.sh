#!/usr/bin/env bash
# The validator core's scenarios on an emulated Cortex-M0: builds the test
# image (thumbv6m-none-eabi, as the RP2040 board) and runs it under
# qemu-system-arm (mps2-an385, a Cortex-M3, RAM cut to the RP2040's 264
# KiB; -icount shift=10 so the SysTick counts instructions), with
# semihosting output; exits with
# the image's verdict. Prints the image's and the board firmware's flash
# and RAM (static) sizes. Needs qemu-system-arm (Debian: qemu-system-arm)
# and `rustup target add thumbv6m-none-eabi`.
#
#   firmware/qemu/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
command -v qemu-system-arm >/dev/null || {
  echo "qemu-system-arm is required: apt-get install qemu-system-arm" >&2
  exit 1
}
target="${CARGO_TARGET_DIR:-$here/target}"
cargo build --release --locked --quiet
elf="$target/thumbv6m-none-eabi/release/kartka-qemu"
sizes() { # sizes NAME ELF: flash (text + data) and static RAM (data + bss)
  size -A "$2" | awk -v name="$1" '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
    $1 == ".data" { flash += $2; ram += $2 }
    $1 == ".bss" || $1 == ".uninit" { ram += $2 }
    END { printf "%s: %d bytes of flash, %d bytes of static RAM\n", name, flash, ram }'
}
sizes "test image" "$elf"
board="$target/thumbv6m-none-eabi/release/kartka-board"
[ -f "$board" ] || board="$here/../board/target/thumbv6m-none-eabi/release/kartka-board"
[ -f "$board" ] && sizes "board firmware (RP2040)" "$board"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
timeout --foreground "${QEMU_TIMEOUT:-300}" qemu-system-arm \
  -machine mps2-an385 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native \
  -icount shift=10,align=off,sleep=off \
  -kernel "$elf" | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo "firmware/qemu: the scenarios failed on the emulated MCU (exit $status)" >&2
  exit "$status"
fi
awk '/instructions per tap decision/ { n = $5 }
     END { if (n) printf "at 125 MHz, one instruction a cycle (an M0+ takes 2 for loads and taken branches): %.0f us per tap decision\n", n / 125 }' "$log"
