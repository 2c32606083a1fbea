"""What every long task stands on: the job context it reports to (`context`), the child
processes it starts (`process`) and the JSON-lines protocol of our Python workers (`worker`).

This room knows nothing of models, boards or editors; every other room may use it.
"""
