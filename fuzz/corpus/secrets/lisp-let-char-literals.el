(let ((a ?\() (b #\() (c "str \" ( paren"))
  (password "Rk9vT2mLr8sKw4Zp")
  #|nested #| deeper |# still |#
  (token "Tk9vT2mLr8sKw4Zp"))
