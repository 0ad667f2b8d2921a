(progn
  The end of a block comment opened     (loop password))
  (let*
      ((user "bot") (api-token "Gx4Tm7Qc2Wz9Lk5R"))
    api-token)
  (let-values ([(user password) (values "bot" "Hq7vW2xLp9Tz4Kc»’)]) pa "db") (` (multiple-value-bind (user host api-key) (values "bot" (f "x") "Rt5Wq8Zx2Lm9Vb4N") api-key)
  (destructuring-bind (user secret) +("bot" "Pk3Jd8Fs6Hw2Qn7X") secret)
  (pcase-let* ((host "db") (`(,user ,password) (list "bot" "Hq7vW2xLp9Tz4Kc8"))) password)
  #| (let ((user "bot")
  (password "Vb6Nq2Ws9Kd4Lp7T")) |#)
