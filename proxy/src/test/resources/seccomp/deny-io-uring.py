#!/usr/bin/env python3
"""Runs a command with io_uring forbidden, as Docker's default seccomp profile forbids it.

    deny-io-uring.py COMMAND [ARG...]

Installs a seccomp filter that makes io_uring_setup, io_uring_enter and io_uring_register fail with EPERM
(what Docker's default profile answers since 25.0, and what containerd's and Podman's do), every other system
call allowed, then replaces itself with COMMAND. The filter holds for COMMAND and everything it starts.
Linux on x86-64 or arm64 only; exits 3 without running COMMAND where the filter cannot be installed.
"""
import ctypes
import errno
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000

# BPF instruction classes and modes (linux/bpf_common.h)
BPF_LD, BPF_W, BPF_ABS = 0x00, 0x00, 0x20
BPF_JMP, BPF_JEQ, BPF_K = 0x05, 0x10, 0x00
BPF_RET = 0x06

# struct seccomp_data: int nr; __u32 arch; ...
OFFSET_NR, OFFSET_ARCH = 0, 4
ARCHES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# io_uring_setup, io_uring_enter, io_uring_register: the same numbers on both architectures
IO_URING_CALLS = (425, 426, 427)


def instruction(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def program(arch):
    calls = len(IO_URING_CALLS)
    code = [
        instruction(BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_ARCH),
        # another architecture's calls (a 32-bit ABI) have other numbers: refuse them outright
        instruction(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, arch),
        instruction(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        instruction(BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_NR),
    ]
    for i, nr in enumerate(IO_URING_CALLS):
        # a match jumps over the remaining comparisons and the ALLOW to the ERRNO return
        code.append(instruction(BPF_JMP | BPF_JEQ | BPF_K, calls - i, 0, nr))
    code.append(instruction(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW))
    code.append(instruction(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM))
    return code


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    arch = ARCHES.get(platform.machine())
    if arch is None:
        print("deny-io-uring: unsupported architecture " + platform.machine(), file=sys.stderr)
        return 3
    code = program(arch)
    buffer = ctypes.create_string_buffer(b"".join(code))
    fprog = SockFprog(len(code), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        print("deny-io-uring: PR_SET_NO_NEW_PRIVS: " + os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 3
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        print("deny-io-uring: PR_SET_SECCOMP: " + os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 3
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
