"""The server's warm-up: once per process, the pages' modules and the pretrained model loaded before the
class arrives, and the long-lived objects frozen out of the garbage collector's walk (which Streamlit runs
after every script run of every session)."""
import gc
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_the_first_visit_warms_up_once_and_freezes_what_lives_long():
    from app_pages import common

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert common._WARM_UPS == [1]             # ran once, within the first run (it is over when the run is)
    assert all(name in sys.modules for name in common.WARM_MODULES)
    frozen = gc.get_freeze_count()
    assert frozen > 50_000                     # torch, plotly, pandas, the model: out of every collection
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert common._WARM_UPS == [1]             # a second session does not warm up again
    # what a collection after a script run still walks is small next to what was frozen
    assert len(gc.get_objects()) < frozen


def test_a_page_that_imports_new_modules_is_frozen_too():
    from app_pages import common

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    before = common._FROZEN_WITH[0]
    at.switch_page("app_pages/textgen.py").run()
    assert not at.exception
    assert common._FROZEN_WITH[0] == len(sys.modules) >= before
