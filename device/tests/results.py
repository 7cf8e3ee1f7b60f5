"""What the device tests share: a tally of named checks, printed as they run."""


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
