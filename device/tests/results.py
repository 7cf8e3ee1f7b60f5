"""What the device and bridge tests share: a tally of named checks, printed as they run."""

import time


class Results:
    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed.append(name)
            print(f"FAIL {name}\n     {detail.strip()[:2000]}")

    def summary(self, label, started, extra=""):
        """Prints "label: N passed, N failed (T s)extra" and the failed checks' names; returns
        the exit status (1 if any check failed). `started` is a time.monotonic() reading."""
        print(f"{label}: {self.passed} passed, {len(self.failed)} failed "
              f"({time.monotonic() - started:.0f} s){extra}")
        if self.failed:
            print("failed: " + ", ".join(self.failed))
            return 1
        return 0
