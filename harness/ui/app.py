"""The entry script Streamlit runs (``fenrir ui``): the page config and the navigation between the pages."""

from __future__ import annotations

import streamlit as st

from harness.ui import ask, report, review, runs


def main() -> None:
    st.set_page_config(page_title="Fenrir", page_icon="🐺", layout="wide")
    pages = [st.Page(ask.render, title="Ask", default=True),  # at the root URL
             st.Page(runs.render, title="Runs", url_path="runs"),
             st.Page(review.render, title="Review", url_path="review"),
             st.Page(report.render, title="Report", url_path="report")]
    st.navigation(pages).run()


main()
