"""The GitHub Actions front end: reads inputs, writes outputs, logs workflow commands."""
