"""Only for mutation testing (mutmut 3): a `sim` started as a subprocess runs unmutated while
mutmut collects which tests reach which functions (its stats mode cannot load its config from
the test's temporary working directory)."""
import os
import subprocess

_popen_init = subprocess.Popen.__init__


def _init(self, *args, env=None, **kwargs):
    if (env if env is not None else os.environ).get("MUTANT_UNDER_TEST") == "stats":
        env = {**(env if env is not None else os.environ), "MUTANT_UNDER_TEST": ""}
    _popen_init(self, *args, env=env, **kwargs)


subprocess.Popen.__init__ = _init
