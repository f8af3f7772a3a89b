"""The Streamlit pages: one script per page, each a short list of sections (widgets in, an ``rnnlab`` call, a
figure out). ``common`` holds the page list and shared widgets; ``training`` is the pages' door to the job
runner (``train_live``: Train → live panel → end banner). See docs/ARCHITECTURE.md."""
