"""The sync deployment: availability, rates and booking confirmations pushed to one OTA."""
