"""县区库款与“三保”流动性监测 — the domain and data core (no UI code here)."""
