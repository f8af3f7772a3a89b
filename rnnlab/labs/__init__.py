"""What each page of the app computes: stepping through, memory, gradients, sentiment, forecasting."""
