3(let [user "ops"
      #_(x "y")
      api-token "Xq9vT2mLr8sKw4Zp"]
  (case x
    password "notabinding12345"
    token "alsonot12345678"))
(def db "postgres://admin:s3cr3tpass@db.example.com:5432/app")
(def web "https://user@corp:p4ss#w0rd@example.com/x?y=1")
