(let ((user "ops") (api-token "Xq9vT2mLr8sKw4Zp"))
  (setq password "kx93nfpq2lmz8vrtQ"
        client-secret "Gx4Tm7pq2Lz8vRt"))
