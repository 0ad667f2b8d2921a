(defun connect ()
  #| a comment (let ((x "y")) |#
  (let* ((user "admin")
         ; (password "nope")
         (host "db.example.com")
         #| (token "commented1234") |#
         (password "Zq8vT2mLr8sKw4Zp"))
    (cond ((string= a "b") "c")
          (password "notabinding1234"))
    (connect host user password)))
