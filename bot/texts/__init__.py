"""Texts and languages: the message catalogues and the language each reader gets (`i18n`), member
text shown as written (`formatting`), and what `/video-help` says (`guide`).
"""
