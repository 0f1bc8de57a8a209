"""Streamlit helpers shared by the dashboard pages (fiscal/ itself imports no streamlit)."""
