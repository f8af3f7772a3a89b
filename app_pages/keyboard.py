"""The presenter's keyboard on the pages that step through a sequence: ← and → step back and forward, the
space bar plays or pauses, with no widget clicked first.

One static listener per browser window (it outlives page changes: the app is a single page) finds, at each
key press, the page's controls by their widget keys (Streamlit puts ``st-key-<key>`` on each element's
container): the Prev / Next buttons and the Play toggle where a page has them, else its step slider (sent the
arrow key as its own). No user input goes into the script. Keys pressed in a text box, a slider, a select or
a tab list keep their own meaning, and so do keys held with a modifier (Ctrl+→ jumps a word, Alt+← goes back
a page)."""
from __future__ import annotations

import json

import streamlit as st

#: (Prev button, Next button, Play toggle) keys: Step through's.
BUTTONS = ("st_prev", "st_next", "st_play")
#: Step sliders driven with the arrow keys where a page has no buttons (An RNN from scratch's forward and
#: backward steps). The first one shown on the page is used.
SLIDERS = ("st_t", "scr_fwd_t", "scr_bwd_t")

_SCRIPT = """<script>
if (!window.__rnnlabStepKeys) {
  window.__rnnlabStepKeys = true;
  const [PREV, NEXT, PLAY] = __BUTTONS__;
  const SLIDERS = __SLIDERS__;
  // Where a key already means something: typing, a slider's own arrows, a select, a tab list, a radio group.
  const OWN_ARROWS = 'input:not([type=checkbox]):not([type=button]):not([type=submit]), textarea, select, '
    + '[contenteditable]:not([contenteditable=false]), [role=slider], [role=combobox], [role=listbox], '
    + '[role=option], [role=tab], [role=tablist], [role=radio], [role=menu], [role=menuitem], [role=spinbutton]';
  // Where the space bar already means something: the above, and anything it presses or ticks.
  const OWN_SPACE = OWN_ARROWS + ', input, button, a[href], summary, [role=button], [role=checkbox], '
    + '[role=switch]';
  const shown = (sel) => [...document.querySelectorAll(sel)].find((e) => e.offsetParent !== null);
  const step = (delta) => {
    const button = shown(`.st-key-${delta > 0 ? NEXT : PREV} button`);
    if (button) { if (!button.disabled) button.click(); return true; }
    const thumb = shown(SLIDERS.map((k) => `.st-key-${k} input[type=range]`).join(', '));
    if (!thumb) return false;
    // The key as the slider's own (react-aria moves the thumb and sends the value, as for a focused slider).
    const key = delta > 0 ? 'ArrowRight' : 'ArrowLeft';
    thumb.dispatchEvent(new KeyboardEvent('keydown', {key, code: key, bubbles: true, cancelable: true}));
    return true;
  };
  const play = () => {
    const toggle = shown(`.st-key-${PLAY} input[type=checkbox]`);
    if (!toggle || toggle.disabled) return false;
    toggle.click();
    return true;
  };
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.isComposing || event.altKey || event.ctrlKey || event.metaKey
        || event.shiftKey) return;
    const arrow = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    const space = event.key === ' ';
    if (!arrow && !space) return;
    const target = event.target instanceof Element ? event.target : null;
    // The page's own Prev / Next buttons keep the keys after a click (space on them plays, not presses).
    const ours = target && target.closest(`.st-key-${PREV}, .st-key-${NEXT}`);
    if (target && !ours && target.closest(arrow ? OWN_ARROWS : OWN_SPACE)) return;
    if (arrow ? step(arrow) : play()) event.preventDefault();
  });
}
</script>"""

SCRIPT = _SCRIPT.replace("__BUTTONS__", json.dumps(list(BUTTONS))).replace("__SLIDERS__", json.dumps(list(SLIDERS)))


def install() -> None:
    """Register the listener (once per browser window). In the sidebar: no gap in the page's layout."""
    st.sidebar.html(SCRIPT, unsafe_allow_javascript=True)
