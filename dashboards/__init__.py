"""The repopilot dashboard (Streamlit): read-only views of the warehouse and the promoted model."""
