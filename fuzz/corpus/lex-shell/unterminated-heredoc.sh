cat <<EOF
body $(echo `id`