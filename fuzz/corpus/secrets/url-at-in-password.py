DATABASE_URL = "postgres://me@corp.com:p@ss#w0rd@db.internal:5432/app"
REDIS = "redis://app:pw@host?admin=ops@example.com"
PROXY = "https://user:Gx4#Tm7@proxy.corp:8080"
