"""The Streamlit chat window: ask about your documents and check every cited passage."""
