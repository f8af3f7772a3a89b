"""The networks: cells, traced layers, the step loop and its BPTT, initialisations, the NumPy RNN, models."""
