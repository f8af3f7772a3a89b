"""What each page of the app computes, one module or package per lab: stepping through and unrolling
(``unroll``, ``equations``), the memory (``memory``, ``explain``, ``embeddings``), gradients (``gradients``,
``longrange``, ``clipping``), the shapes an RNN takes and their experiments (``shapes``, ``architectures``),
batching (``batching``), the NumPy RNN (``scratch``), sentiment (``sentiment``, ``calibration``), forecasting
(``forecast``, ``baselines``), text generation (``textgen``, ``textgen_cli``) and RNN vs CNN vs MLP vs
Transformer (``compare``). Every live training is a job function here, run by :mod:`rnnlab.runtime.jobs`."""
