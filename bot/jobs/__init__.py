"""A job and its life: the job record and its states (`model`), the tracker that alone moves a
job between them, when each job is looked at next (`schedule`, `polling`), the queue in front of
the relay (`admission`, `relay_queue`) and what the tracker needs of Discord (`presenter`).
"""
