(progn
  The end of a block comment opened before the lines read back: (let ((user "bot")
  |#
  (password "Hq7vW2xLp9Tz4Kc8")
  (let
      loop ((password "Hq7vW2xLp9Tz4Kc8"))
    (loop password))
  (let*
      ((user "bot") (api-token "Gx4Tm7Qc2Wz9Lk5R"))
    api-t") secret)
  (pcase-let* ((host "db") (`(,user ,password) (list "bot" "Hq7vW2xLp9Tz4Kc8"))) password)
  #| (let ((user "bot")
  (password "Vb6Nq2Ws9Kd4Lp7T")) |#)
