"""The one training driver: strategy resolution, callbacks, run folders."""
