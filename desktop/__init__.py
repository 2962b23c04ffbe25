"""The Qt desktop client for branch staff, collectors, finance and legal."""
