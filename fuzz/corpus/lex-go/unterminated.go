x := `raw never closed
r := '\