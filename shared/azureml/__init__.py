"""Azure ML: the model registry mirror (outbox + registry-sync) and the bulk retraining pipeline job.

Only `naming` and `outbox` are for the serving process; every module that imports `azure.ai.ml` does so
inside its functions, so importing this package costs nothing.
"""
