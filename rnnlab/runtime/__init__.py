"""Where and how things run: the device."""
