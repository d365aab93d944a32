"""The relay side: what a job asks for (`request`, declared once), the models and what each
takes (`models`), the relay-client interface (`client`) and its one implementation for the
"unified video" routes (`unified`), the lenient task parser (`task_status`), and `redact`.
"""
