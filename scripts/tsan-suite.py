#!/usr/bin/env python3
"""Runs compiler-rt's own ThreadSanitizer test suite (`compiler-rt/test/tsan`) with the
stock runtime or with umbra swapped in, and prints the pass counts side by side.

The tests are LLVM's (lit tests with RUN lines and FileCheck patterns), fetched at run
time from Debian's source package of LLVM 16 and never copied into this repository.
They run under LLVM's own `lit` (installed with pip into target/tsan-suite/venv) with
a generated site configuration, as compiler-rt's CMake would write it:

- `--compiler gcc`: `gcc -fsanitize=thread` builds (binaries need gcc's libtsan.so.2);
- `--compiler clang`: `clang-16 -fsanitize=thread -shared-libsan` builds (binaries
  need libclang_rt.tsan-x86_64.so).

The runtime is chosen by `LD_LIBRARY_PATH` only, so every binary is the same for both
runs: `--runtime stock` points at a folder with the stock libraries, `--runtime umbra`
at one where both names are umbra's libumbra.so (README: "swap the library").

    scripts/tsan-suite.py --compiler gcc --runtime stock umbra [--filter REGEX] [-j N]

Writes target/tsan-suite/results-COMPILER-RUNTIME.txt (one `PASS|FAIL|... name` line per
test) and prints the counts and the tests whose verdicts differ.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

LLVM_VERSION = "16.0.6"
SOURCE_URL = (
    "http://deb.debian.org/debian/pool/main/l/llvm-toolchain-16/"
    f"llvm-toolchain-16_{LLVM_VERSION}.orig.tar.xz"
)
WANTED = ("compiler-rt/test/", "compiler-rt/include/sanitizer/")

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "target" / "tsan-suite"


def fail(message):
    print(f"tsan-suite: {message}", file=sys.stderr)
    sys.exit(2)


def fetch_sources():
    """compiler-rt's test/ and include/ of LLVM 16, extracted once."""
    root = WORK / "src" / f"llvm-toolchain-16_{LLVM_VERSION}"
    if (root / "compiler-rt/test/tsan/lit.cfg.py").exists():
        return root
    archive = WORK / "src" / "llvm.tar.xz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    if not archive.exists():
        print(f"tsan-suite: fetching {SOURCE_URL} (136 MB, once)", file=sys.stderr)
        tmp = archive.with_suffix(".part")
        urllib.request.urlretrieve(SOURCE_URL, tmp)
        tmp.rename(archive)
    print("tsan-suite: extracting compiler-rt/test", file=sys.stderr)
    with tarfile.open(archive, "r:xz") as tar:
        members = [m for m in tar if any(w in m.name for w in WANTED)]
        tar.extractall(WORK / "src", members=members, filter="data")
    return root


def lit_binary():
    """`lit` from a private virtualenv (pip install lit)."""
    venv = WORK / "venv"
    lit = venv / "bin" / "lit"
    if not lit.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", f"lit=={LLVM_VERSION}", "psutil"], check=True)
    return lit


def runtime_dir(runtime, compiler):
    """A folder for LD_LIBRARY_PATH holding the runtime under the names binaries need."""
    d = WORK / f"lib-{runtime}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    if runtime == "stock":
        gcc_lib = Path("/usr/lib/x86_64-linux-gnu/libtsan.so.2")
        clang_lib = Path(
            subprocess.run(
                ["clang-16", "-print-file-name=libclang_rt.tsan-x86_64.so"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            or "/nonexistent"
        )
        for lib in (gcc_lib, clang_lib):
            if lib.exists():
                (d / lib.name).symlink_to(lib)
        if compiler == "clang" and not clang_lib.exists():
            fail("clang-16's libclang_rt.tsan-x86_64.so is not installed (libclang-rt-16-dev)")
    else:
        out = WORK / "umbra-rt"
        built = subprocess.run(
            ["cargo", "run", "--release", "-q", "--", "build", "--out", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        lib = out / "libumbra.so"
        if built.returncode != 0 or not lib.exists():
            fail(f"cannot build umbra's runtime: {built.stderr.strip()[-400:]}")
        for name in ("libtsan.so.2", "libclang_rt.tsan-x86_64.so"):
            (d / name).symlink_to(lib)
    return d


def write_config(src, compiler, runtime, libdir):
    """The generated build tree lit runs from (as CMake would configure it)."""
    build = WORK / f"build-{compiler}-{runtime}"
    shutil.rmtree(build, ignore_errors=True)
    (build / "test" / "tsan").mkdir(parents=True)
    crt = src / "compiler-rt"
    if compiler == "gcc":
        cc, cid, cflags = shutil.which("gcc"), "GNU", "-lstdc++"
    else:
        cc, cid = shutil.which("clang-16"), "Clang"
        cflags = f"-shared-libsan -Wl,-rpath,{libdir}"
    if not cc:
        fail(f"{compiler} is not installed")
    tools = "/usr/lib/llvm-16/bin"
    if not Path(tools, "FileCheck").exists():
        fail("FileCheck is missing: apt-get install llvm-16-tools")
    values = {
        "LIT_SITE_CFG_IN_HEADER": "# generated by scripts/tsan-suite.py",
        "COMPILER_RT_DEFAULT_TARGET_TRIPLE": "x86_64-pc-linux-gnu",
        "COMPILER_RT_TEST_COMPILER_CFLAGS": cflags,
        "HOST_ARCH": "x86_64",
        "COMPILER_RT_DEFAULT_TARGET_ARCH": "x86_64",
        "HOST_OS": "Linux",
        "LLVM_BUILD_MODE": "Release",
        "LLVM_MAIN_SRC_DIR": str(src / "llvm"),
        "LLVM_BINARY_DIR": str(build),
        "COMPILER_RT_SOURCE_DIR": str(crt),
        "COMPILER_RT_BINARY_DIR": str(build),
        "LLVM_ENABLE_PER_TARGET_RUNTIME_DIR_PYBOOL": "False",
        "LLVM_TOOLS_DIR": tools,
        "LLVM_LIT_TOOLS_DIR": "",
        "LLVM_LIBRARY_OUTPUT_INTDIR": "",
        "GNU_LD_EXECUTABLE": shutil.which("ld") or "",
        "GOLD_EXECUTABLE": "",
        "COMPILER_RT_RESOLVED_TEST_COMPILER": cc,
        "COMPILER_RT_TEST_COMPILER_ID": cid,
        "Python3_EXECUTABLE": sys.executable,
        "COMPILER_RT_DEBUG_PYBOOL": "False",
        "COMPILER_RT_INTERCEPT_LIBDISPATCH_PYBOOL": "False",
        "COMPILER_RT_RESOLVED_LIBRARY_OUTPUT_DIR": str(libdir),
        "COMPILER_RT_EMULATOR": "",
        "COMPILER_RT_ASAN_SHADOW_SCALE": "",
        "COMPILER_RT_MEMPROF_SHADOW_SCALE": "",
        "SANITIZER_CAN_USE_CXXABI_PYBOOL": "True",
        "SANITIZER_USE_STATIC_CXX_ABI_PYBOOL": "False",
        "SANITIZER_USE_STATIC_LLVM_UNWINDER_PYBOOL": "False",
        "COMPILER_RT_HAS_LLD_PYBOOL": "False",
        "CAN_SYMBOLIZE": "1",
        "COMPILER_RT_TEST_USE_LLD_PYBOOL": "False",
        "ANDROID_PYBOOL": "False",
        "ANDROID_API_LEVEL": "",
        "ANDROID_SERIAL_FOR_TESTING": "",
        "HAVE_RPC_XDR_H": "0",
        "COMPILER_RT_HAS_GWP_ASAN_PYBOOL": "False",
        "LLVM_ENABLE_EXPENSIVE_CHECKS_PYBOOL": "False",
        "COMPILER_RT_TEST_STANDALONE_BUILD_LIBS_PYBOOL": "False",
        "LLVM_ENABLE_ZLIB": "0",
        "LLVM_LIBCXX_USED": "0",
        # tsan's own site config
        "TSAN_TEST_CONFIG_SUFFIX": f"-{compiler}-{runtime}",
        "TSAN_LIT_SOURCE_DIR": str(crt / "test/tsan"),
        "TSAN_HAS_LIBCXX": "False",
        "TSAN_TEST_APPLE_PLATFORM": "osx",
        "TSAN_TEST_MIN_DEPLOYMENT_TARGET_FLAG": "",
        "TSAN_TEST_TARGET_CFLAGS": cflags,
        "TSAN_TEST_TARGET_ARCH": "x86_64",
        "TSAN_TEST_DEFLAKE_THRESHOLD": "10",
        "CMAKE_CURRENT_SOURCE_DIR": str(crt / "test/tsan"),
    }

    def configure(template, out, extra=""):
        text = re.sub(
            r"@([A-Za-z0-9_]+)@",
            lambda m: values.get(m.group(1), ""),
            template.read_text(),
        )
        out.write_text(text + extra)

    configure(crt / "test/lit.common.configured.in", build / "test/lit.common.configured")
    # Both runtimes are found through LD_LIBRARY_PATH: the binaries are identical.
    swap = f"\nconfig.environment['LD_LIBRARY_PATH'] = {str(libdir)!r}\n"
    configure(crt / "test/tsan/lit.site.cfg.py.in", build / "test/tsan/lit.site.cfg.py", swap)
    return build / "test" / "tsan"


def run_suite(lit, suite, jobs, filter_re, out):
    """Runs lit on the generated suite folder; lit finds the tests through the
    sources' lit.cfg.py. Darwin/, libdispatch/ and libcxx/ mark themselves
    unsupported on Linux, so what runs is the top folder and Linux/."""
    args = [str(lit), "-q", "-j", str(jobs), "--timeout", "120",
            "--xunit-xml-output", str(out.with_suffix(".xml"))]
    if filter_re:
        args += ["--filter", filter_re]
    out.with_suffix(".xml").unlink(missing_ok=True)
    env = dict(os.environ)
    for var in ("TSAN_OPTIONS", "UMBRA_OPTIONS", "LD_PRELOAD"):
        env.pop(var, None)
    proc = subprocess.run(args + [str(suite)], env=env, capture_output=True, text=True)
    if not out.with_suffix(".xml").exists():
        fail(f"lit failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def verdicts(xml_path):
    """`path -> PASS|FAIL|UNSUPPORTED` from lit's xunit output, without the tests a
    `--filter` left out. Paths are relative to test/tsan (`Linux/user_malloc.cpp`)."""
    import xml.etree.ElementTree as ET

    result = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        # classname: `SUITE.SUITE[.Linux]`
        folder = case.get("classname", "").split(".")[2:]
        name = "/".join(folder + [case.get("name", "")])
        skipped = case.find("skipped")
        if case.find("failure") is not None:
            result[name] = "FAIL"
        elif skipped is None:
            result[name] = "PASS"
        elif "not selected" not in skipped.get("message", ""):
            result[name] = "UNSUPPORTED"
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--compiler", choices=["gcc", "clang"], default="gcc")
    p.add_argument("--runtime", choices=["stock", "umbra"], nargs="+", default=["stock", "umbra"])
    p.add_argument("--filter", help="only tests whose path matches this regex")
    p.add_argument("-j", "--jobs", type=int, default=2)
    a = p.parse_args()

    src = fetch_sources()
    lit = lit_binary()
    results = {}
    for runtime in a.runtime:
        libdir = runtime_dir(runtime, a.compiler)
        suite = write_config(src, a.compiler, runtime, libdir)
        out = WORK / f"results-{a.compiler}-{runtime}.txt"
        print(f"tsan-suite: running {a.compiler} builds on {runtime}", file=sys.stderr)
        run_suite(lit, suite, a.jobs, a.filter, out)
        v = verdicts(out.with_suffix(".xml"))
        out.write_text("".join(f"{r} {n}\n" for n, r in sorted(v.items())))
        results[runtime] = v
    names = sorted(set().union(*[set(v) for v in results.values()]))
    for runtime, v in results.items():
        counts = {}
        for r in v.values():
            counts[r] = counts.get(r, 0) + 1
        ran = sum(n for r, n in counts.items() if r != "UNSUPPORTED")
        print(
            f"{a.compiler} builds on {runtime}: {counts.get('PASS', 0)} of {ran} pass"
            f" ({counts.get('UNSUPPORTED', 0)} unsupported)"
        )
    if len(results) == 2:
        (ra, va), (rb, vb) = results.items()
        for n in names:
            if va.get(n) != vb.get(n):
                print(f"  {n}: {ra} {va.get(n)}, {rb} {vb.get(n)}")


if __name__ == "__main__":
    main()
