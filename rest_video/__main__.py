from rest_video.cli import main

raise SystemExit(main())
