(let ((a ?\() (b #\() (c "st k9vT2mLr8sKw4Zp")
  #|nested #| deeper |# still |#
  (token "Tk9vT2mLr8sKw4Zp"))
