	(ns app.db)
(let [user "ops" {:keys [a b]} cfg
      password "Xq9vT2mLr8sKw4Zp"
      token (get-token "id")]
  (connect user password))
