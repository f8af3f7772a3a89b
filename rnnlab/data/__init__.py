"""Data: the tokenizer, text datasets (IMDB, CSV), time series, synthetic sequence tasks."""
